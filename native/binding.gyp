# The live-capture addon: libpcap behind a capture thread per handle (native/README.md).
# Built by the root package's `install` script (`npm ci`, `npm install`) into
# native/build/Release/iplog_capture.node; needs libpcap's headers (Debian: libpcap-dev).
{
  "targets": [
    {
      "target_name": "iplog_capture",
      "sources": ["src/capture.cc"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api"],
      "defines": ["NAPI_VERSION=8"],
      "libraries": ["-lpcap"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_cc!": ["-std=gnu++17"]
    }
  ]
}
