"""SMS provider adapters used to deliver OTP codes."""
