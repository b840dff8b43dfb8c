module mpsc-driver-go

go 1.19
