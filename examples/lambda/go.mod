module github.com/qcodr/restate-sdk-go/examples/lambda

go 1.26

require (
	github.com/aws/aws-lambda-go v1.55.1
	github.com/google/go-cmp v0.7.0
	github.com/qcodr/restate-sdk-go v0.0.0
)

require github.com/golang-jwt/jwt/v5 v5.3.1 // indirect

replace github.com/qcodr/restate-sdk-go => ../..
