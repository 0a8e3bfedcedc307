package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/resource"
	"github.com/switchboard/switchboard/pkg/rules"
)

// channelRules godoc
// @Summary     The channel rule table
// @ID          getChannelRules
// @Description Every channel type's messaging window, what may be sent inside and after it, its per-channel options with defaults, and the sources, as the send path applies them. Every eligibility answer and send carries the same rule_version.
// @Tags        channel-rules
// @Produce     json
// @Security    BearerAuth
// @Success     200 {object} resource.ChannelRuleTable
// @Failure     401 {object} Problem
// @Router      /v1/channel-rules [get]
func channelRules(c echo.Context) error {
	return c.JSON(http.StatusOK, resource.ToChannelRuleTable(rules.Version, rules.Table()))
}
