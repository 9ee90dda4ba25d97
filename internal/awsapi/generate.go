package awsapi

//go:generate go run ./gen -out .
