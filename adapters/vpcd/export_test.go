package vpcd

// ServeStream exposes the protocol loop to the external tests (fuzzing).
var ServeStream = serveStream
