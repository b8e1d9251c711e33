module chapter/production

go 1.26
