module chapter/docker

go 1.26
