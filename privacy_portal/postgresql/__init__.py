"""Django's PostgreSQL backend with a health check that costs no round trip
(ENGINE "privacy_portal.postgresql"; see base.py)."""
