{
  "targets": [
    {
      "target_name": "keepalive_table",
      "sources": ["native/table.cc", "native/rows.cc"],
      "cflags_cc": ["-std=c++17", "-O2", "-ffp-contract=off", "-Wall", "-Wextra"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
