// Package conformance runs AWS's own runbooks, unchanged from the corpus of
// published AWS-owned documents, against moto and checks their effect with
// the SDK: the proof that capstan runs them as SSM does. It holds tests only.
package conformance
