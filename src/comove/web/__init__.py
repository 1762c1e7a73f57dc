"""``comove serve``: the local dashboard and its JSON API (FastAPI; extra ``comove[web]``).

The app only reads the store; nothing on a request path fetches from a provider. Build it
with :func:`comove.web.app.create_app`.
"""

from __future__ import annotations
