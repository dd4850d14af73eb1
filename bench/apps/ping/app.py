"""The trivial route every transport is measured with: no database, no middleware."""

from chalice.app import Chalice

app = Chalice(app_name="bench-ping")


@app.route("/ping")
def ping() -> dict[str, bool]:
    return {"ok": True}
