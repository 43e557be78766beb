module github.com/fiscalkit/gb18240

go 1.26.0

require (
	github.com/6tail/lunar-go v1.4.7
	github.com/ebfe/scard v0.0.0-20241214075232-7af069cabc25
	github.com/stretchr/testify v1.12.1
	go.bug.st/serial v1.8.0
	golang.org/x/sys v0.43.0
	golang.org/x/text v0.44.0
)

require go.yaml.in/yaml/v3 v3.0.5 // indirect
