"""The only code that changes state. Views, admin actions and tasks call these functions."""
