"""Messages to citizens outside the centre's screens: SMS (notify/sms.py)."""
