"""Django's PostgreSQL backend, with a health check that costs no round trip.

The portal keeps each process's connection open between requests (CONN_MAX_AGE). When the
server ends it — a restart, a fail-over that stops the old server, pg_terminate_backend,
idle_session_timeout — the next request's first query fails on it and the visitor gets the
503 page, unless something checks first. Django's check (CONN_HEALTH_CHECKS) asks
`SELECT 1` at the start of every request that uses the connection: a round trip each time
(0.1 to 0.2 ms, about a tenth of a bare insert view's whole request) to learn what is nearly
always true.

A server that ends a connection says so on its socket (a last error message, then the end
of the stream), so the idle socket turns readable. This backend looks at the socket without
waiting (one system call, no network) and asks `SELECT 1` only when something arrived; when
that fails, the connection is closed and the request opens a new one, as with Django's own
check. An idle connection of the portal's receives nothing else (it never LISTENs); a notice
or a parameter change that does arrive costs the one harmless round trip.

What it cannot see: a server that vanished without closing its connections (its machine
lost power, the network was cut). The socket stays quiet, the request's first query fails,
and that request answers the 503 page; Django drops the connection after it, so the next
request opens a new one.
"""

import select

from django.db.backends.postgresql import base


def _quiet(connection) -> bool:
    """Whether nothing arrived on the idle connection's socket (so the server has not ended
    it). False where it cannot be told (no poll() on this system, no socket), so that the
    connection is then asked."""
    if not hasattr(select, "poll"):
        return False
    try:
        socket = connection.fileno()
    except base.Database.Error:  # psycopg knows it is lost
        return False
    poller = select.poll()
    poller.register(socket, select.POLLIN)  # errors and hang-ups are reported too
    return not poller.poll(0)


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
        """Django's health check (CONN_HEALTH_CHECKS), run only when the socket is not quiet."""
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and not self.pool
            and _quiet(self.connection)
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
