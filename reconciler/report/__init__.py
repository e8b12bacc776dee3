"""Pure presentation: status, leak reports and logs as users and CI systems read them.

Nothing here talks to containerd; the CLI hands these modules models and prints what
they return.
"""
