module myapp

go 1.25.0

require github.com/qcodr/restate-sdk-go v0.0.0-00010101000000-000000000000

require github.com/golang-jwt/jwt/v5 v5.3.1 // indirect

replace github.com/qcodr/restate-sdk-go => ../../../..
