//go:build !cgo

package main

func cgoMarker() bool { return false }
