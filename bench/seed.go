package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
)

// seedCommand names the seed method in the bench state: `switchboard seed`. (A state written
// by another method, or for another size, seeds again.)
const seedCommand = "switchboard-seed"

// seedWithCommand runs `switchboard seed`, which also creates the agents, and returns them
// with their password.
func seedWithCommand(ctx context.Context, cfg config, ws string, size seedSize) ([]member, string, error) {
	cmd := exec.CommandContext(ctx, cfg.bin, "seed", "--workspace", ws, "--contacts", strconv.Itoa(size.Contacts),
		"--messages-per-contact", strconv.Itoa(size.MessagesPerContact), "--agents", strconv.Itoa(size.Agents),
		"--seed", "42") // the same data on every machine
	cmd.Env = append(os.Environ(), "DATABASE_URL="+cfg.dbURL)
	cmd.Stderr = os.Stderr // its progress
	out, err := cmd.Output()
	if err != nil {
		return nil, "", fmt.Errorf("switchboard seed: %w", err)
	}
	var res struct {
		Agents        []member `json:"agents"`
		AgentPassword string   `json:"agent_password"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, "", fmt.Errorf("switchboard seed output: %w", err)
	}
	if len(res.Agents) == 0 || res.AgentPassword == "" {
		return nil, "", fmt.Errorf("switchboard seed printed no agents with a password: %s", out)
	}
	return res.Agents, res.AgentPassword, nil
}

// seedNote describes the seed in the results.
func seedNote(string) string { return "`switchboard seed --seed 42`" }
