module github.com/qcodr/restate-sdk-go/internal/wirecheck

go 1.25.0

replace github.com/qcodr/restate-sdk-go => ../..

require (
	github.com/bufbuild/protocompile v0.14.1
	github.com/google/go-cmp v0.7.0
	github.com/qcodr/restate-sdk-go v0.0.0-00010101000000-000000000000
	google.golang.org/protobuf v1.36.12
	pgregory.net/rapid v1.3.0
)

require golang.org/x/sync v0.8.0 // indirect
