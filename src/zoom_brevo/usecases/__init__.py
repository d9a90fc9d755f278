"""The application layer: what the commands do, apart from how they show it.

``cli`` (commands), ``demo``, ``admin`` and the background jobs (``handlers.jobs``) call
these use cases; they wire settings, clients, the store and the pipeline together and
return data. Nothing here imports ``cli``, ``admin``, ``server``, ``demo`` or
``handlers``: those sit above (``tests/test_layers.py`` keeps the package free of import
cycles).

- ``sync``: collect one meeting or webinar and deliver it (``sync``, ``demo``);
- ``backfill``: every instance in a date range, delivered the same way;
- ``collect``: one instance into the store (also the ``collect`` job);
- ``checks``: what ``check`` verifies; ``limits``: the rate limits in effect.
"""
