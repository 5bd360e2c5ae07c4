"""Security hardening (issue 21): demo mode, bounded inputs, login throttle, audited refusals, link lifetimes."""
