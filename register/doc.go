// Package register is the fiscal cash register (税控收款机) itself and the host
// link protocol between POS software and a register.
package register
