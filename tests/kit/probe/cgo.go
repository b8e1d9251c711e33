//go:build cgo

package main

// #include <stdlib.h>
import "C"

func cgoMarker() bool { return C.abs(-1) == 1 }
