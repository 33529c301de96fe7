"""Channels (email, Slack, SMS) and the templates they render: given one outgoing message,
send it or record it (simulated). No database here: the delivery service in
`sets.services.notifications_delivery` claims a row, hands it over, and records the outcome."""

from sets.notify.channels import Channels, build_channels
from sets.notify.message import DeliveryError, Outgoing, Receipt, Recipient

__all__ = ["Channels", "DeliveryError", "Outgoing", "Receipt", "Recipient", "build_channels"]
