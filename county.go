package ccpor

import "strings"

// Counties are California's 58 counties, each with one superior court.
var Counties = []string{
	"Alameda", "Alpine", "Amador", "Butte", "Calaveras", "Colusa", "Contra Costa",
	"Del Norte", "El Dorado", "Fresno", "Glenn", "Humboldt", "Imperial", "Inyo",
	"Kern", "Kings", "Lake", "Lassen", "Los Angeles", "Madera", "Marin", "Mariposa",
	"Mendocino", "Merced", "Modoc", "Mono", "Monterey", "Napa", "Nevada", "Orange",
	"Placer", "Plumas", "Riverside", "Sacramento", "San Benito", "San Bernardino",
	"San Diego", "San Francisco", "San Joaquin", "San Luis Obispo", "San Mateo",
	"Santa Barbara", "Santa Clara", "Santa Cruz", "Shasta", "Sierra", "Siskiyou",
	"Solano", "Sonoma", "Stanislaus", "Sutter", "Tehama", "Trinity", "Tulare",
	"Tuolumne", "Ventura", "Yolo", "Yuba",
}

var countyByKey = func() map[string]string {
	m := make(map[string]string, len(Counties))
	for _, c := range Counties {
		m[countyKey(c)] = c
	}
	return m
}()

func countyKey(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimSuffix(s, " county")
	return strings.Join(strings.Fields(s), " ")
}

// CanonicalCounty returns the county's canonical spelling ("los angeles
// county" → "Los Angeles") and whether it is a California county.
func CanonicalCounty(s string) (string, bool) {
	c, ok := countyByKey[countyKey(s)]
	return c, ok
}
