package awsmodel

//go:generate go run ./gen -out .
