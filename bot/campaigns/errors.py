"""What can happen to POST /campaigns, as outcomes the dialog can speak about."""

from __future__ import annotations


class CampaignError(Exception):
    """Base class: the campaign was not (or not certainly) created."""


class CampaignRejected(CampaignError):
    """The API answered 4xx/5xx: nothing was created."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"campaign API answered {status}: {message}")
        self.status = status
        self.message = message


class CampaignUnreachable(CampaignError):
    """Nothing reached the API (DNS, connection refused, connect timeout)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"campaign API unreachable: {reason}")
        self.reason = reason


class CampaignOutcomeUnknown(CampaignError):
    """The request may have reached the API; the campaign may exist. Never resent by itself."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"campaign outcome unknown: {reason}")
        self.reason = reason
