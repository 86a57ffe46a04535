# A cost model only (test/bench/core-model.ts): the modern TCP core of core-hook.ts in C,
# to measure what a native core would cost. Not part of iplog; not built by npm ci.
{
  "targets": [
    {
      "target_name": "core_model",
      "sources": ["core.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
