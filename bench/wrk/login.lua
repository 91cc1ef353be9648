-- POST /api/users/login/ with the credentials given in env BENCH_USER / BENCH_PASSWORD.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = string.format('{"username": "%s", "password": "%s"}',
  os.getenv("BENCH_USER") or "bench", os.getenv("BENCH_PASSWORD") or "password1")
