"""InfluxDB (1.x InfluxQL, 2.x Flux): the client (``client``), the settings section (``settings``) and its
plugin (``plugin``)."""
