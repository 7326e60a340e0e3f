"""The example API: a ping that says who is calling, and the caller's orders."""
