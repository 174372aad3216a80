"""Device information, returned when a valid ``telemetry_id`` was sent."""

from datetime import datetime

import attrs

from .reprs import readable_repr

__all__ = ["DeviceAttributeDetails", "DeviceInfo"]


@attrs.frozen
class DeviceAttributeDetails:
    """How new a device attribute is for this user."""

    __repr__ = readable_repr

    is_new: bool
    """``True`` the first time this value is seen for the user."""
    first_seen_at: datetime | None = None
    """When it was first seen."""
    last_seen_at: datetime | None = None
    """When it was last seen."""


@attrs.frozen
class DeviceInfo:
    """Device information, returned when a valid ``telemetry_id`` was sent."""

    __repr__ = readable_repr

    visitor_id: str
    """Device Fingerprinting visitor id."""
    visitor_id_details: DeviceAttributeDetails | None = None
    """History of the visitor id."""
    ip_address: str | None = None
    """IP address of the device."""
    ip_address_details: DeviceAttributeDetails | None = None
    """History of the IP address."""
    ip_geo_city: str | None = None
    """City of the IP address."""
    ip_geo_region: str | None = None
    """Region of the IP address."""
    ip_geo_country: str | None = None
    """Country of the IP address."""
    ip_geo_country_details: DeviceAttributeDetails | None = None
    """History of the country."""
