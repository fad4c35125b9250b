"""The Flet screens; they draw `canteen_app.state` and forward taps to it."""
