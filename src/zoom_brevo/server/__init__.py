"""The HTTP side: webhook intake and operations endpoints, and the process shells.

- ``intake``: pure; content type, parsing, classification, dedupe key, stored headers;
- ``webhooks``: ``POST /webhooks/zoom`` (read bounded, verify, classify, commit, answer);
- ``inbox_writer``: group commit of verified webhooks to the inbox;
- ``health`` / ``metrics``: ``/healthz``, ``/readyz``, ``/metrics`` (per-app registry);
- ``background``: a worker coroutine beside the server, stopped within a bound;
- ``app``: ``create_app`` and ``webhook_options(settings)``;
- ``runner``: ``run_server`` (uvicorn, SIGTERM -> exit 0) and ``run_worker_process``.
"""
