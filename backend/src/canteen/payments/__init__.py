"""Payment gateways: provider-neutral types, the Razorpay adapter and a local Razorpay sandbox."""
