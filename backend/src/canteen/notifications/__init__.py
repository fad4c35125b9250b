"""Push notifications: provider-neutral types, the FCM and dev-outbox providers, the jobs."""
