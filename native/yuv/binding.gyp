# The RGBA → I420 addon (src/render/yuv.ts loads it): one source file over Debian's libyuv
# (libyuv-dev). Built by scripts/build-native.mjs with npm's own node-gyp.
{
  "targets": [
    {
      "target_name": "yuv",
      "sources": ["yuv.cc"],
      "libraries": ["-lyuv"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
