"""Sending: the SMTP transport, the delivery ledger, failure policy, pacing, DKIM and the send
service that turns an issue into one delivered message per subscriber."""
