"""A data source that breaks in the middle of an erasure (registered by one test through
the PERSONAL_DATA_SOURCES setting), to prove an erasure is all or nothing."""

from requests_app.registry import DataSource


class FailingSource(DataSource):
    name = "Broken app"
    record_type = "Broken record"
    purpose = "enquiries"

    def records(self, email):
        return []

    def erase(self, context):
        raise RuntimeError("the broken app's database went away")
