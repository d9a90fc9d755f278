"""Delivery: the outbox worker that sends Brevo commands, batched, rate-limited and retried.

- ``plan``: pure; which requests deliver a batch (import vs upserts, event chunks, e-mails);
- ``decisions``: pure; retry, dead-letter or stop after an error; import check schedule;
- ``rows``: settles claimed outbox rows in the store;
- ``contacts`` / ``effects``: send contacts, then events and e-mails (with the ledger);
- ``imports``: follows import processes and keeps the rows Brevo refused;
- ``worker``: ``Deliverer.drain`` / ``Deliverer.run``.
"""
