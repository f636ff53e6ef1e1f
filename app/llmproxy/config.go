package llmproxy

import (
	"encoding/json"
	"fmt"
	"time"
)

// Price is what one model costs, in USD per 1M tokens.
type Price struct {
	Input  float64 `json:"input"`
	Cached float64 `json:"cached"`
	Output float64 `json:"output"`
}

// Config is everything the proxy needs; the composition root (app/server)
// builds it from the process configuration.
type Config struct {
	ProviderBaseURL string // e.g. https://api.openai.com/v1
	ProviderAPIKey  string
	AdminToken      string // guards minting and derives the token signing key
	TokenTTL        time.Duration

	MaxRequestsPerScan int64   // 0 = unlimited
	MaxTokensPerScan   int64   // 0 = unlimited
	MaxCostUSDPerScan  float64 // 0 = unlimited

	PriceUSDPer1K float64          // flat estimate when a model has no entry in Prices
	Prices        map[string]Price // model → price per 1M tokens

	// MaxRequestBodyBytes bounds what a runner may send (default 32 MiB).
	MaxRequestBodyBytes int64
}

// ParsePrices reads VEGA_LLM_PROXY_PRICES: {"model": {"input":…, "cached":…, "output":…}}.
func ParsePrices(s string) (map[string]Price, error) {
	var m map[string]Price
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("VEGA_LLM_PROXY_PRICES: not a JSON object of model → {input, cached, output}: %w", err)
	}
	for model, p := range m {
		if p.Input < 0 || p.Cached < 0 || p.Output < 0 {
			return nil, fmt.Errorf("VEGA_LLM_PROXY_PRICES: negative price for model %q", model)
		}
	}
	return m, nil
}

func (c Config) withDefaults() Config {
	if c.TokenTTL <= 0 {
		c.TokenTTL = 6 * time.Hour
	}
	if c.MaxRequestBodyBytes <= 0 {
		c.MaxRequestBodyBytes = 32 << 20
	}
	return c
}

// Cost estimates what usage of model cost. Cached input tokens are part of
// input_tokens in the provider's accounting, so they are billed at the cached
// price and only the remainder at the input price.
func (c Config) Cost(model string, input, cached, output int64) float64 {
	if p, ok := c.Prices[model]; ok {
		uncached := input - cached
		if uncached < 0 {
			uncached = 0
		}
		return (float64(uncached)*p.Input + float64(cached)*p.Cached + float64(output)*p.Output) / 1e6
	}
	return float64(input+output) / 1000 * c.PriceUSDPer1K
}
