package main

type planCmd struct {
	Snapshot string `name:"snapshot" placeholder:"FILE" type:"existingfile" help:"Plan from this survey snapshot (wnm survey --json) instead of a live survey"`
}

func (planCmd) Run(s *session) error { return notYet("wnm plan") }

type surveyCmd struct{}

func (surveyCmd) Run(s *session) error { return notYet("wnm survey") }

