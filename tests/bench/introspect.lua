-- Introspection (RFC 7662) of one access token issued before the run, client_secret_basic.
-- BENCH_BASIC: the Authorization header value; BENCH_TOKEN: the token to introspect.
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")

wrk.method = "POST"
wrk.path = "/introspect"
wrk.headers["Authorization"] = os.getenv("BENCH_BASIC")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "token=" .. os.getenv("BENCH_TOKEN")
