module kitprobe

go 1.26
