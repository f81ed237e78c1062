{
  "variables": {
    "duckdb_lib_dir": "<!(node -p \"require('path').dirname(require.resolve('@duckdb/node-bindings-' + process.platform + '-' + process.arch + '/package.json', {paths: [require('path').resolve('..')]}))\")"
  },
  "targets": [
    {
      "target_name": "iquery_frames",
      "sources": ["src/frame_writer.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O2"],
      "libraries": ["-L<(duckdb_lib_dir)", "-lduckdb", "-Wl,-rpath,<(duckdb_lib_dir)"]
    }
  ]
}
