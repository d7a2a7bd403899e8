// The canvas library (@napi-rs/canvas) allocates through its own mimalloc, not glibc, and
// mimalloc hands a freed span back to the OS once it has lain unused for `purge_delay` (10 ms by
// default). A render thread frees each frame's 3.6 MB pixel buffer (canvas.data()) and asks for
// the next one a frame later (33 ms at 30 fps), so the default returns it every time and the next
// frame's copy faults in fresh pages: on the 2-core VM, with 6 streams, ~7,000 page faults a
// second per render thread and a third of its time in the kernel. A delay of 1 s keeps the
// buffers a stream reuses every frame and still returns what a stopped stream left (issue 14).
// mimalloc reads its options once, when the library loads: entry points import this module
// before anything that loads the canvas library. A value set by the operator (the environment
// or .env) wins.
process.env.MIMALLOC_PURGE_DELAY ??= '1000';
