-- GET of the URL given to wrk (discovery, JWKS).
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
