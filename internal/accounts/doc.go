// Package accounts owns tenants and their credentials: accounts, the
// application keys that authenticate management calls, and the short-lived
// access tokens an application key can mint. Only hashes of keys are stored.
// Every stream and widget belongs to one account, and an account sees
// nothing of another's.
package accounts
