"""Global rate limiting (Envoy Gateway's BackendTrafficPolicy `rateLimit.type: Global`), served by
meshgate itself: Envoy's RateLimitService gRPC API, with envoyproxy/ratelimit's semantics.

- descriptors.py: for one route and its IR rate limit, the route's Envoy `rate_limits` (what each
  request sends) and the limits the service holds for them; both come from one plan per rule, so
  they cannot drift apart.
- limits.py: the service's table (domain → descriptor tree → limit) and its lookup.
- counters.py: fixed windows aligned to the unit, counted in memory (one replica's view).
- redis_counters.py: the same windows in Redis, shared by every replica (`--rate-limit-redis`).
- service.py: the grpc.aio servicer (ShouldRateLimit) over a table and a counter store.
- filter.py: the HTTP connection manager's `envoy.filters.http.ratelimit` filter.

Domain: one per Gateway, its "namespace/name" (filter.gateway_domain), named by each route's
per-filter config (RateLimitPerRoute, with the route's `rate_limits`; xds/rate_limits.py): every
connection manager carries the same filter, pointing at meshgate over the xDS cluster. The table
follows every translation (limits.gateway_limits; runtime/run.py), the counts stay. Routes are told apart
inside it by a route key unique within the Gateway (descriptors.route_key: the route
configuration's name and the route's name), so no two routes share a bucket.
"""
