module github.com/qcodr/restate-sdk-go

go 1.25
