package api

// CSRFToken is the form token of a session, for tests that post forms.
var CSRFToken = csrfToken
