"""Order-status displays: the counter's TV screen of preparing and ready order numbers
(issue 17, part 2), signed in with a display token an admin creates and revokes."""
